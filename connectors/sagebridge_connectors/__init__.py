"""Connector packages, one per external system (`xcart`, `sage300`, ...).

Each subpackage speaks one external API and, when imported, registers the model of its pair-file
block and a factory per role it implements (`sagebridge_common.registry`). The runtime imports a
subpackage only when a pair file names its kind.
"""
