"""Schemathesis contract suites for the RootFi, MPDX and Torii APIs (see issue 4)."""
