package io.shale.log.internal.objectstore;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A test double of the ObjectStore SPI whose answers are scripted: each call takes the next answer
 * queued for its operation (a value or a failure) and records what it was called with. A call
 * with no answer left fails the test loudly.
 */
class ScriptedObjectStore implements ObjectStore {
    /** One recorded call. {@code payloadBytes} is what the call read from its payload, if any. */
    record Call(String op, String key, String token, byte[] payloadBytes) {
    }

    private final Deque<Object> putAnswers = new ArrayDeque<>();
    private final Deque<Object> putIfAbsentAnswers = new ArrayDeque<>();
    private final Deque<Object> getAnswers = new ArrayDeque<>();
    private final Deque<Object> headAnswers = new ArrayDeque<>();
    private final Deque<Object> listAnswers = new ArrayDeque<>();
    private final Deque<Object> deleteAnswers = new ArrayDeque<>();
    final List<Call> calls = new ArrayList<>();
    boolean closed;

    static ObjectStoreException failure(ObjectStoreException.Reason reason, String message) {
        return new ObjectStoreException(reason, "k", message);
    }

    ScriptedObjectStore answerPut(Object... answers) {
        putAnswers.addAll(List.of(answers));
        return this;
    }

    ScriptedObjectStore answerPutIfAbsent(Object... answers) {
        putIfAbsentAnswers.addAll(List.of(answers));
        return this;
    }

    ScriptedObjectStore answerGet(Object... answers) {
        getAnswers.addAll(List.of(answers));
        return this;
    }

    ScriptedObjectStore answerHead(Object... answers) {
        headAnswers.addAll(List.of(answers));
        return this;
    }

    ScriptedObjectStore answerList(Object... answers) {
        listAnswers.addAll(List.of(answers));
        return this;
    }

    ScriptedObjectStore answerDelete(Object... answers) {
        deleteAnswers.addAll(List.of(answers));
        return this;
    }

    long count(String op) {
        return calls.stream().filter(c -> c.op().equals(op)).count();
    }

    @SuppressWarnings("unchecked")
    private static <T> CompletableFuture<T> next(Deque<Object> answers, String op) {
        Object a = answers.poll();
        if (a == null) {
            throw new AssertionError("no scripted answer left for " + op);
        }
        if (a instanceof Throwable t) {
            return CompletableFuture.failedFuture(t);
        }
        return CompletableFuture.completedFuture(a == Void.TYPE ? null : (T) a);
    }

    @Override
    public synchronized CompletableFuture<Void> put(String key, Payload payload, String token) {
        calls.add(new Call("put", key, token, payload.toByteArray()));
        return next(putAnswers, "put");
    }

    @Override
    public synchronized CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        calls.add(new Call("putIfAbsent", key, token, payload.toByteArray()));
        return next(putIfAbsentAnswers, "putIfAbsent");
    }

    @Override
    public synchronized CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        calls.add(new Call("get", key, null, null));
        return next(getAnswers, "get");
    }

    @Override
    public synchronized CompletableFuture<Optional<ObjectInfo>> head(String key) {
        calls.add(new Call("head", key, null, null));
        return next(headAnswers, "head");
    }

    @Override
    public synchronized CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        calls.add(new Call("list", prefix, null, null));
        return next(listAnswers, "list");
    }

    @Override
    public synchronized CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        calls.add(new Call("delete", String.join(",", keys), null, null));
        return next(deleteAnswers, "delete");
    }

    @Override
    public String describe() {
        return "scripted://";
    }

    @Override
    public void close() {
        closed = true;
    }
}
