"""The integration layer: docking department systems, their callbacks and the dispatcher."""
