"""ticket_printer"""
