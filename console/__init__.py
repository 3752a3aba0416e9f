"""The site: what composes the framework (``authmon``) and the kinds into the console, the API and the jobs.

The framework below never imports a kind app or this package (``tests/test_layers.py``); the kinds may use the
framework. Here live the views, URLs, the API routes, the task wiring, console sign-in and the demo data.
"""
