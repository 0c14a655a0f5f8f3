package dev.offload.gateway.api;

import dev.offload.gateway.capacity.CapacityMonitor;
import dev.offload.gateway.capacity.CapacityPlanner;
import dev.offload.gateway.capacity.CapacitySummary;
import dev.offload.gateway.capacity.InvalidPlanException;
import dev.offload.gateway.capacity.Plan;
import dev.offload.gateway.capacity.PlanInputs;
import dev.offload.gateway.capacity.PlanRequest;
import dev.offload.gateway.retrieval.InvalidRequestException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /v1/capacity}: live capacity per tier; {@code POST /v1/capacity/plan}: the what-if
 * model ({@code src/site/markdown/capacity.md}). Both only read and compute: safe on the event loop.
 */
@Path("/v1/capacity")
@Produces(MediaType.APPLICATION_JSON)
public class CapacityResource {
    private final CapacityPlanner planner = new CapacityPlanner();

    @Inject
    CapacityMonitor monitor;

    @GET
    public CapacitySummary summary() {
        return monitor.summary();
    }

    @POST
    @Path("/plan")
    @Consumes(MediaType.APPLICATION_JSON)
    public Plan plan(PlanRequest request) {
        try {
            return planner.plan(PlanInputs.from(monitor.withMeasurements(request)));
        } catch (InvalidPlanException e) {
            throw new InvalidRequestException(400, e.getMessage(), e.violations().stream()
                    .map(v -> new InvalidRequestException.Violation(v.field(), v.message())).toList());
        }
    }
}
