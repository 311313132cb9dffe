"""Workshop mode in the window: the lessons a learner follows, the packs a teacher hands out
(opened offline, with their locks and seed), and projector mode for the front of the room.

* :mod:`.controller` — :class:`~.controller.Workshop`, one per window: the open pack, the
  lesson being followed (an engine ``Walkthrough``), the runs its checks read, scores kept
  across restarts. The Lessons panel (app/dashboard/views/lessons_view.py) renders from it.
* :mod:`.locks` — a pack's locked values refused on the undo stack; :mod:`.lock_marks` the
  padlock the panels draw beside a locked field.
* :mod:`.pack_dialog` — File ▸ New Workshop Pack…
* :mod:`.projector` — projector mode and the presenter layout (View menu).

The headless side — lessons, checks, quizzes, packs — is ``layerlab.engine.lessons``.
"""
