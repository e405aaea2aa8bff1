"""San José benefits text line: a pure conversation engine with thin web, worker and CLI doors."""
