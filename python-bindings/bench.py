print("pel bench: not yet")
