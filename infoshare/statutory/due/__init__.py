"""What statutory sharing has waiting: roll notifications (`roll`) and returns (`returns`).

Each module implements `infoshare.reminders.items`' interface.
"""
