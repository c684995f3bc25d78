"""`heartbeat serve`: one collector for a team, served over HTTP (issue 13).

hub.py polls for everyone and caches answers per poll and scope; app.py holds
the routes (users.py the user administration); sessions.py checks tokens;
http.py and errors.py are the HTTP contract; run.py starts and stops the
service. The engine's rules (auth, export, scoping) are reused, never copied.
"""
