"""Workout analysis: pose features, exercise classification, reps, form, sessions.

Pure domain code (numpy, OpenCV, MediaPipe; matplotlib for plots only).

    from motion.workout import WorkoutSession, pose_from_image
    session = WorkoutSession()
    payload = session.step(pose_from_image(bgr), t=time.time())   # seed-003 "workout"
    session.summary()                                            # seed-003 "summary"
    state = session.to_dict(); WorkoutSession.from_dict(state)   # keep in Redis between frames
"""
from motion.workout.analyze import analyze_workout, plot_angles
from motion.workout.exercises import EXERCISES
from motion.workout.model import ModelStatus, UserModel, load_model
from motion.workout.pose import pose_from_image
from motion.workout.session import WorkoutSession

__all__ = ["EXERCISES", "ModelStatus", "UserModel", "WorkoutSession", "analyze_workout", "load_model",
           "plot_angles", "pose_from_image"]
