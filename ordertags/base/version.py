"""The version of ordertags (read by the packaging metadata too). Raise it with each
release, as CHANGELOG.md records: a change that breaks a command, a file format or the
API raises the minor number while below 1.0."""

VERSION = "0.2.0"
