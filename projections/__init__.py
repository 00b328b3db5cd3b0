"""Read models that follow the event store, and the projector that keeps them."""
