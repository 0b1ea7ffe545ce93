"""Alert drills: real faults in the reference gateway, followed hop by hop to the page."""
