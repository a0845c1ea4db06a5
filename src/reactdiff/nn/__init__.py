"""Network building blocks shared by the methods (attention, transformer layers)."""
