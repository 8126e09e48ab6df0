"""Solutions to the notebooks' exercises: one file per notebook, named after it.

Each file maps an exercise's name to a correct answer and the typical wrong answers its checker
catches (``gdtf.exercises.Solution``). Try the exercise first: the checker's hints are written to
get you there without reading these. ``tests/test_solutions.py`` proves every checker against them.
"""
