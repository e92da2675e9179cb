"""Remote write: the 1.0 encoder (v1), the sender (send), dead letters and an independent decoder."""
