//! Part LN: the learner strategies.
