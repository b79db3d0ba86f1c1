"""Guided reflection: reflection models as data, and the engines that ask the questions."""
