package io.shale.storage.s3;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that injects an {@link S3ProxyServer} parameter (constructor, lifecycle or
 * test method). One server (in memory) is shared by every test class of the run and stopped when
 * the run ends; tests isolate themselves with their own bucket or key prefix.
 *
 * <pre>{@code
 * @ExtendWith(S3ProxyExtension.class)
 * class MyTest {
 *     @Test void works(S3ProxyServer s3) { s3.createBucket("b"); ... }
 * }
 * }</pre>
 */
public final class S3ProxyExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(S3ProxyExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == S3ProxyServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return server(context);
    }

    /** The run's shared server, started on first use; closed by JUnit when the run ends. */
    public static S3ProxyServer server(ExtensionContext context) {
        return context.getRoot().getStore(NS).getOrComputeIfAbsent("server", k -> S3ProxyServer.start(), S3ProxyServer.class);
    }
}
