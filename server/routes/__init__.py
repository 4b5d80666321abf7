"""The API's endpoint groups, in the order they appear in the OpenAPI document."""
from . import auth_routes, counter_actions, devices, health, live, offices, tickets

GROUPS = [health, auth_routes, devices, offices, tickets, counter_actions, live]
