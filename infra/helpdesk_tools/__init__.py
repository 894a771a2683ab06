"""What is not a Lambda: the command line, the local stack, seeding, evaluation, benchmarks."""
