package io.shale.reliability.sim;

/** A broken promise found by the simulation: {@link #kind} names which (shrinking keeps it). */
final class SimulationFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final String kind;

    SimulationFailure(String kind, String message) {
        super(kind + ": " + message);
        this.kind = kind;
    }

    SimulationFailure(String kind, String message, Throwable cause) {
        super(kind + ": " + message, cause);
        this.kind = kind;
    }
}
