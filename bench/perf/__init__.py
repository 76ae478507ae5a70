"""The performance benchmark's parts (``bench/performance.py`` is the script that runs them).

``images`` makes the inputs, ``sized_engine`` is the emulator's trivial engine, ``naive_handler``
is the baseline as the public samples write it, ``function_process`` runs one side in a child
process, ``probes`` measures init time, the layer's size and the local engine's speed.
"""
