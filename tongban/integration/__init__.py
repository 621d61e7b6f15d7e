"""The integration layer: docking department systems, their callbacks, the dispatcher and the
platform's own background jobs."""
