"""worker: drains the pgmq jobs queue and hands each job to its registered handler."""
