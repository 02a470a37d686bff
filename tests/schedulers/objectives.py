"""Objectives sent to worker processes (module-level, so a spawned worker imports them)."""

from __future__ import annotations

from knoblab.trial import TrialPruned


def bowl(trial):
    """loss = x + 1 / (step + 1), reported per step; a continuation reports from its resume step."""
    start = trial._frozen.attrs.get("resume_step", 0)
    for step in range(start, trial.params["epochs"]):
        trial.report(step, loss=trial.params["x"] + 1.0 / (step + 1))
        if trial.should_stop():
            raise TrialPruned()
    return trial.params["x"] + 1.0 / trial.params["epochs"]


def bowl_with_a_straggler(trial):
    """`bowl`, but PBT member 1's first segment takes 3 s: the other worker runs every other segment meanwhile and
    finds the queue empty while member 1's next segment is still to come."""
    import time

    if trial._frozen.attrs.get("member") == 1 and trial._frozen.attrs.get("generation") == 0:
        time.sleep(3.0)
    return bowl(trial)


def promote_at_once(url, name, scheduler, trial_id, barrier, out):
    """In a process of its own: opens the experiment, waits for the others, then tells the scheduler that the
    paused trial `trial_id` finished (what a worker does when a trial of its own pauses at a rung)."""
    import knoblab as kl

    exp = kl.Experiment.load(name, url, scheduler=scheduler)
    frozen = exp.storage.get_trial(trial_id, with_reports=True)
    scheduler.curves(exp).refresh(exp)  # read before the barrier: every process decides from the same snapshot
    barrier.wait(timeout=60)
    scheduler.on_finish(exp, frozen)
    out.put(trial_id)
