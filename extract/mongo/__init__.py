"""MongoDB backup-collection extractor."""
