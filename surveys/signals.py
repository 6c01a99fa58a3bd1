"""The narrow hook through which other apps learn of new responses.

``surveys`` never imports ``analytics``; analytics connects a receiver to
``response_submitted``, which is sent only after the response's transaction
has committed (so a receiver never sees a response that might roll back).
"""

from django.dispatch import Signal

# Sent with keyword arguments: wave_id, locality_id, response_id, audience.
response_submitted = Signal()

# Sent after a locality's population figures changed and committed, with the
# keyword argument locality_id.
population_changed = Signal()
