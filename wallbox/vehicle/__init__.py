"""Vehicle back-ends: the small protocol the controller drives a car through, its
implementations, the charge-state snapshot they return, Tesla sign-in and tokens,
and a car simulator that speaks the same wire."""
