"""Booking a counter visit (预约办理): time slots per service hall and item, with a capacity."""
