package dev.offload.gateway.api;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/**
 * {@code GET /v1/models}: the model names a device may ask for, in OpenAI's list shape — {@code auto},
 * each tier's name, and each tier's served model name (vLLM's {@code --served-model-name}) as an
 * alias of its tier; {@code GET /v1/models/{id}} one of them, 404 for others.
 */
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
        return new Models("list", chat.aliases().stream().map(ModelsResource::model).toList());
    }

    @GET
    @Path("/{id: .+}")
    public Model get(@PathParam("id") String id) {
        if (!chat.aliases().contains(id)) {
            throw new NotFoundException("no model '" + id + "'; GET /v1/models lists them");
        }
        return model(id);
    }

    private static Model model(String id) {
        return new Model(id, "model", 0, "offload-gateway");
    }
}
