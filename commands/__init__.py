"""The ``moviepipe`` command line, assembled from every layer's command group.

The core package :mod:`moviepipe` never imports the layers built on it, so the root
group it defines (:func:`moviepipe.cli.main`: services, config, run) gets the layers'
groups here, in a package that sits above all of them. Usage::

    moviepipe --help               # the console script: commands.app:main
    python -m commands stream land # the same, as the pipeline's steps run it
"""
