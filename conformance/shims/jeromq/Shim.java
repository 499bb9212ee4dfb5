// The conformance kit's shim (spec/shim.md) for JeroMQ 0.3.6, Debian's libjeromq-java.
//
// One JSON request per line on stdin, one JSON response per line on stdout, in order; logs
// go to stderr. JeroMQ 0.3.6 speaks ZMTP 2.0 only, with the classic socket types, over tcp
// (its ipc:// is tcp on the loopback under another name, so it is not offered) and
// NULL only. Built by the kit on first use: javac -cp <jeromq.jar> -d <cache> Shim.java
//
// The JSON reader is a small hand-written one for the kit's requests: objects, arrays,
// strings, numbers, booleans and null.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

public final class Shim {
    private static final String[] TYPES = {
        "PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"
    };
    private static final int[] CODES = {
        ZMQ.PAIR, ZMQ.PUB, ZMQ.SUB, ZMQ.REQ, ZMQ.REP, ZMQ.DEALER, ZMQ.ROUTER, ZMQ.PULL,
        ZMQ.PUSH, ZMQ.XPUB, ZMQ.XSUB
    };

    /** A failed request: the errno name and a sentence. */
    static final class Failure extends Exception {
        final String error;

        Failure(String error, String detail) {
            super(detail);
            this.error = error;
        }
    }

    private final ZMQ.Context ctx = ZMQ.context(1);
    private final Map<String, ZMQ.Socket> sockets = new HashMap<>();

    private Shim() {}

    // -- JSON ------------------------------------------------------------------------------

    static final class Reader {
        private final String text;
        private int at;

        Reader(String text) {
            this.text = text;
        }

        Object value() {
            skip();
            char c = text.charAt(at);
            if (c == '{') {
                return object();
            }
            if (c == '[') {
                return array();
            }
            if (c == '"') {
                return string();
            }
            if (text.startsWith("true", at)) {
                at += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("false", at)) {
                at += 5;
                return Boolean.FALSE;
            }
            if (text.startsWith("null", at)) {
                at += 4;
                return null;
            }
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            String number = text.substring(start, at);
            if (number.isEmpty()) {
                throw new IllegalArgumentException("unexpected " + c + " at " + start);
            }
            return number.contains(".") || number.contains("e") || number.contains("E")
                ? (Object) Double.valueOf(number) : (Object) Long.valueOf(number);
        }

        private void skip() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private void expect(char c) {
            skip();
            if (text.charAt(at) != c) {
                throw new IllegalArgumentException("expected " + c + " at " + at);
            }
            at++;
        }

        private Map<String, Object> object() {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            skip();
            if (text.charAt(at) == '}') {
                at++;
                return out;
            }
            while (true) {
                skip();
                String key = string();
                expect(':');
                out.put(key, value());
                skip();
                if (text.charAt(at++) == '}') {
                    return out;
                }
            }
        }

        private List<Object> array() {
            List<Object> out = new ArrayList<>();
            expect('[');
            skip();
            if (text.charAt(at) == ']') {
                at++;
                return out;
            }
            while (true) {
                out.add(value());
                skip();
                if (text.charAt(at++) == ']') {
                    return out;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = text.charAt(at++);
                switch (e) {
                    case 'n': out.append('\n'); break;
                    case 't': out.append('\t'); break;
                    case 'r': out.append('\r'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'u':
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                        break;
                    default: out.append(e);
                }
            }
        }
    }

    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    // -- requests --------------------------------------------------------------------------

    private ZMQ.Socket sock(Map<String, Object> req) throws Failure {
        ZMQ.Socket s = sockets.get(String.valueOf(req.get("id")));
        if (s == null) {
            throw new Failure("EINVAL", "no socket " + req.get("id"));
        }
        return s;
    }

    private static byte[] binary(Object value) {
        return Base64.getDecoder().decode(String.valueOf(value));
    }

    private static long number(Object value) throws Failure {
        if (value instanceof Long) {
            return (Long) value;
        }
        if (value instanceof Boolean) {
            return ((Boolean) value) ? 1 : 0;
        }
        throw new Failure("EINVAL", "not a number: " + value);
    }

    private static void set(ZMQ.Socket s, String name, Object value) throws Failure {
        switch (name) {
            case "subscribe": s.subscribe(binary(value)); break;
            case "unsubscribe": s.unsubscribe(binary(value)); break;
            case "routing_id": s.setIdentity(binary(value)); break;
            case "sndhwm": s.setSndHWM(number(value)); break;
            case "rcvhwm": s.setRcvHWM(number(value)); break;
            case "linger": s.setLinger(number(value)); break;
            case "sndbuf": s.setSendBufferSize(number(value)); break;
            case "rcvbuf": s.setReceiveBufferSize(number(value)); break;
            case "reconnect_ivl": s.setReconnectIVL(number(value)); break;
            case "router_mandatory": s.setRouterMandatory(number(value) != 0); break;
            case "router_handover": s.setRouterHandover(number(value) != 0); break;
            case "xpub_verbose": s.setXpubVerbose(number(value) != 0); break;
            case "immediate": s.setDelayAttachOnConnect(number(value) != 0); break;
            default: throw new Failure("ENOTSUP", "JeroMQ 0.3.6 has no option " + name);
        }
    }

    private String hello() {
        StringBuilder types = new StringBuilder();
        for (String t : TYPES) {
            types.append(types.length() == 0 ? "" : ",").append(quote(t));
        }
        String version = System.getProperty("jeromq.version", "0.3.6");
        return "\"name\":\"jeromq\",\"version\":" + quote(version) + ",\"protocol\":1,"
            + "\"capabilities\":{\"socket_types\":[" + types + "],"
            + "\"transports\":[\"tcp\",\"inproc\"],\"mechanisms\":[\"NULL\"],"
            + "\"zmtp\":[\"2.0\"]}";
    }

    @SuppressWarnings("unchecked")
    private String socket(Map<String, Object> req) throws Failure {
        String type = String.valueOf(req.get("type"));
        for (int i = 0; i < TYPES.length; i++) {
            if (TYPES[i].equals(type)) {
                ZMQ.Socket s = ctx.socket(CODES[i]);
                s.setLinger(0);
                sockets.put(String.valueOf(req.get("id")), s);
                Object options = req.get("options");
                if (options instanceof Map) {
                    for (Map.Entry<String, Object> e : ((Map<String, Object>) options).entrySet()) {
                        set(s, e.getKey(), e.getValue());
                    }
                }
                return "";
            }
        }
        throw new Failure("EINVAL", "no socket type " + type);
    }

    private String bind(Map<String, Object> req) throws Failure {
        ZMQ.Socket s = sock(req);
        String endpoint = String.valueOf(req.get("endpoint"));
        if (endpoint.startsWith("tcp://") && (endpoint.endsWith(":0") || endpoint.endsWith(":*"))) {
            String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
            int port = s.bindToRandomPort(host, 20000, 65000);
            endpoint = host + ":" + port;
        } else {
            s.bind(endpoint);
        }
        return "\"endpoint\":" + quote(endpoint);
    }

    private String send(Map<String, Object> req) throws Failure {
        ZMQ.Socket s = sock(req);
        List<?> frames = (List<?>) req.get("frames");
        int timeout = (int) number(req.getOrDefault("timeout_ms", 1000L));
        s.setSendTimeOut(timeout);
        int wait = timeout == 0 ? ZMQ.DONTWAIT : 0;
        for (int i = 0; i < frames.size(); i++) {
            int more = i < frames.size() - 1 ? ZMQ.SNDMORE : 0;
            if (!s.send(binary(frames.get(i)), more | (i == 0 ? wait : 0))) {
                throw new Failure("EAGAIN", "");
            }
        }
        return "";
    }

    private String recv(Map<String, Object> req) throws Failure {
        ZMQ.Socket s = sock(req);
        int timeout = (int) number(req.getOrDefault("timeout_ms", 1000L));
        s.setReceiveTimeOut(timeout == 0 ? 1 : timeout);
        byte[] first = s.recv(timeout == 0 ? ZMQ.DONTWAIT : 0);
        if (first == null) {
            throw new Failure("EAGAIN", "");
        }
        StringBuilder out = new StringBuilder("\"frames\":[");
        out.append(quote(Base64.getEncoder().encodeToString(first)));
        while (s.hasReceiveMore()) {
            out.append(',').append(quote(Base64.getEncoder().encodeToString(s.recv(0))));
        }
        return out.append(']').toString();
    }

    private String handle(Map<String, Object> req) throws Failure {
        String op = String.valueOf(req.get("op"));
        switch (op) {
            case "hello": return hello();
            case "socket": return socket(req);
            case "setsockopt":
                set(sock(req), String.valueOf(req.get("name")), req.get("value"));
                return "";
            case "bind": return bind(req);
            case "connect": sock(req).connect(String.valueOf(req.get("endpoint"))); return "";
            case "unbind": sock(req).unbind(String.valueOf(req.get("endpoint"))); return "";
            case "send": return send(req);
            case "recv": return recv(req);
            case "close":
                sock(req).close();
                sockets.remove(String.valueOf(req.get("id")));
                return "";
            default: throw new Failure("ENOTSUP", "unknown op " + op);
        }
    }

    private static String errno(int code) {
        switch (code) {
            case 35: return "EAGAIN";
            case 45: return "ENOTSUP";
            case 22: return "EINVAL";
            case 48: return "EADDRINUSE";
            case 61: return "ECONNREFUSED";
            case 65: return "EHOSTUNREACH";
            case 43: return "EPROTONOSUPPORT";
            case 156384717: return "ENOTSOCK";
            case 156384763: return "EFSM";
            case 156384765: return "ETERM";
            default: return "E" + code;
        }
    }

    private String answer(Map<String, Object> req) {
        String fields;
        try {
            fields = handle(req);
        } catch (Failure f) {
            return "\"ok\":false,\"error\":" + quote(f.error) + ",\"detail\":" + quote(f.getMessage());
        } catch (ZMQException e) {
            return "\"ok\":false,\"error\":" + quote(errno(e.getErrorCode()))
                + ",\"detail\":" + quote(e.toString());
        } catch (UnsupportedOperationException e) {
            return "\"ok\":false,\"error\":\"ENOTSUP\",\"detail\":" + quote(String.valueOf(e));
        } catch (RuntimeException e) {
            return "\"ok\":false,\"error\":\"EINVAL\",\"detail\":" + quote(e.toString());
        }
        return fields.isEmpty() ? "\"ok\":true" : "\"ok\":true," + fields;
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Shim shim = new Shim();
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            Map<String, Object> req;
            String body;
            try {
                req = (Map<String, Object>) new Reader(line).value();
            } catch (RuntimeException e) {
                req = new HashMap<>();
                body = "\"ok\":false,\"error\":\"EINVAL\",\"detail\":" + quote("bad JSON: " + e);
                out.println("{" + body + "}");
                out.flush();
                continue;
            }
            boolean quit = "quit".equals(req.get("op"));
            body = quit ? "\"ok\":true" : shim.answer(req);
            Object seq = req.get("seq");
            out.println("{" + body + (seq != null ? ",\"seq\":" + seq : "") + "}");
            out.flush();
            if (quit) {
                break;
            }
        }
        for (ZMQ.Socket s : shim.sockets.values()) {
            s.close();
        }
        System.exit(0);
    }
}
