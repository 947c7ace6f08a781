"""allauth adapter: accounts are created by invitation only."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join a school when its headteacher or information manager invites them.
        return False
