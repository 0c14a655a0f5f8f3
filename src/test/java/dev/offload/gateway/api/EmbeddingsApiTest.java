package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.Embedder;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

import static dev.offload.gateway.security.TestKeys.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code POST /v1/embeddings} in OpenAI's shape, from the gateway's own model. */
@QuarkusTest
class EmbeddingsApiTest {
    @Inject
    Embedder embedder;

    private static float[] floats(List<Float> list) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    @Test
    void textsAreEmbeddedInOrderAsTheIndexEmbedsThem() {
        JsonPath r = given().contentType(ContentType.JSON)
                .body("{\"model\":\"bge-small-en-v1.5\",\"input\":[\"gearbox oil interval\",\"pump seal torque\"]}")
                .post("/v1/embeddings").then().statusCode(200)
                .body("object", equalTo("list")).body("model", equalTo("bge-small-en-v1.5"))
                .body("data[1].index", equalTo(1)).body("data[0].object", equalTo("embedding"))
                .extract().jsonPath();
        float[] first = floats(r.getList("data[0].embedding", Float.class));
        assertEquals(384, first.length);
        assertArrayEquals(embedder.embed("gearbox oil interval"), first, 1e-6f, "the vectors the index uses");
        assertArrayEquals(embedder.embed("pump seal torque"), floats(r.getList("data[1].embedding", Float.class)), 1e-6f);
        assertEquals(r.getInt("usage.prompt_tokens"), r.getInt("usage.total_tokens"));
    }

    @Test
    void base64IsLittleEndianFloat32AsOpenAisClientsDecodeIt() {
        String b64 = given().contentType(ContentType.JSON).body("{\"input\":\"gearbox oil interval\",\"encoding_format\":\"base64\"}")
                .post("/v1/embeddings").then().statusCode(200).extract().jsonPath().getString("data[0].embedding");
        ByteBuffer buf = ByteBuffer.wrap(Base64.getDecoder().decode(b64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[buf.remaining() / 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = buf.getFloat();
        }
        assertArrayEquals(embedder.embed("gearbox oil interval"), v, 1e-6f);
    }

    @Test
    void whatTheModelCannotDoIsRefusedByName() {
        String[][] cases = {
                {"{\"input\":[[1,2,3]]}", "input[0]"},
                {"{\"input\":[]}", "input"},
                {"{\"input\":\"x\",\"model\":\"text-embedding-3-small\"}", "model"},
                {"{\"input\":\"x\",\"dimensions\":256}", "dimensions"},
                {"{\"input\":\"x\",\"encoding_format\":\"int8\"}", "encoding_format"},
                {"{\"input\":\"" + "a".repeat(8193) + "\"}", "input"},
        };
        for (String[] c : cases) {
            given().contentType(ContentType.JSON).body(c[0]).post("/v1/embeddings").then().statusCode(400)
                    .contentType(startsWith("application/problem+json")).body("errors[0].field", equalTo(c[1]));
        }
        given().contentType(ContentType.JSON).body("{\"input\":\"x\",\"topK\":3}").post("/v1/embeddings").then().statusCode(400);
        dev.offload.gateway.security.TestKeys.as("not-a-key").contentType(ContentType.JSON).body("{\"input\":\"x\"}")
                .post("/v1/embeddings").then().statusCode(401);
    }
}
