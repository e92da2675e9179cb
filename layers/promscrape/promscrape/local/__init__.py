"""Running promscrape on one machine: embedded AWS built from template.yaml, demo exporter, receiver."""
