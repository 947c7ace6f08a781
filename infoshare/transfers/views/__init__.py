"""The pages of secure transfers: the members' (`members.py`) and the recipient's (`public.py`).

HTTP glue only: every change goes through infoshare.transfers.services.
"""
