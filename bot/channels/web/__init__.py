"""The web chat widget: a page and an embeddable script served by the hall service, which relays the browser's
messages to Rasa's REST channel (so the browser talks to one origin only and Rasa stays on loopback).

`routes` is the hall service's part, `payloads` the actions' (kept apart: the action server loads no aiohttp
routes, the hall service no Rasa), `messages` the shape both sides agree on, `browser` the tests' Chromium.
"""
