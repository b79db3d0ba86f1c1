"""Knowledge gaps: questions the organisation's documents could not answer, counted per process
without naming anyone, listed once enough different people met them."""
