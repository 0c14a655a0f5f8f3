package dev.offload.gateway.retrieval;

import jakarta.inject.Qualifier;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The {@link Embedder} of {@code gateway.embedding.question-model}: the vectors the semantic cache
 * compares and the local-quality router weighs, as opposed to the index's (unqualified) embedder.
 */
@Qualifier
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.TYPE})
public @interface QuestionEmbedding {
}
