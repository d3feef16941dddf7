"""Shape and data-movement ops: RESHAPE (more move here from the legacy modules)."""
