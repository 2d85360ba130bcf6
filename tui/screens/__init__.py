"""Modal screens shown over a pane.

- ``jump_screen``: asks for a number (go to sample N, batch N).
"""
