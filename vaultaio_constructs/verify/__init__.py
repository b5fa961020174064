"""``vault-aio verify`` and ``vault-aio upgrade-vault``: operate a deployed stack through ``kubectl``.

Pure Python (PyYAML only): nothing here imports jsii or cdk8s unless ``--settings`` asks for a synth.
"""
