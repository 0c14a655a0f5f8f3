package dev.offload.gateway.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/** {@code GET /v1/models}: the model aliases a device may ask for, in OpenAI's list shape. */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {
    @Inject
    ChatCompletionsRoute chat;

    public record Model(String id, String object, long created, String owned_by) {
    }

    public record Models(String object, List<Model> data) {
    }

    @GET
    public Models list() {
        return new Models("list", chat.aliases().stream().map(a -> new Model(a, "model", 0, "offload-gateway")).toList());
    }
}
