"""The local stack: template.yaml deployed into moto, the emulator, and a local event source mapping."""
