"""Quality gates and the blue/green publish of gold (see docs/quality.md)."""
