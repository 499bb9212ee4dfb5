// A JeroMQ socket driven line by line from stdin, for tests/test_jeromq.py.
//
// Usage: java -cp <jeromq.jar>:<dir> ZmtpPeer TYPE bind|connect ENDPOINT [identity=HEX] [life=MS]
//
// TYPE is PUB, SUB, REQ, REP, DEALER, ROUTER, PULL, PUSH or PAIR. Binding to
// "tcp://HOST:*" picks a free port. The first line on stdout is "ready ENDPOINT" (the
// endpoint to connect to when binding). Then each stdin line is one command, and each
// command prints exactly one line:
//
//   send F...          send one message of the frames F ("ok", or "error ...")
//   recv MS            wait up to MS ms for one message: "msg F..." or "timeout"
//   echo N MS          receive N messages, each within MS ms, and send each back as it
//                      came (a REP answers, a ROUTER routes it back): "ok N" or "timeout I"
//   sub F / unsub F    subscribe to / unsubscribe from topic F ("ok")
//   quit               close and exit (prints nothing)
//
// A frame F is written in hex, "-" being the empty frame. The peer exits on its own at
// end of stdin, on "quit", or after "life" ms (default 30000), whichever comes first.
//
// Two things about JeroMQ 0.3.6 to keep in mind: like libzmq, a socket attaches a
// connection it accepted (and a SUB sends it its subscriptions) only during a call on the
// socket, such as "recv"; and it cannot send an identity longer than 127 octets.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.zeromq.ZMQ;

public final class ZmtpPeer {
    private static final int IO_TIMEOUT_MS = 5000;

    private ZmtpPeer() {}

    static byte[] unhex(String text) {
        if (text.equals("-")) {
            return new byte[0];
        }
        byte[] out = new byte[text.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static String hex(byte[] data) {
        if (data.length == 0) {
            return "-";
        }
        StringBuilder out = new StringBuilder(2 * data.length);
        for (byte b : data) {
            out.append(String.format("%02x", b & 0xff));
        }
        return out.toString();
    }

    static int socketType(String name) {
        switch (name) {
            case "PAIR": return ZMQ.PAIR;
            case "PUB": return ZMQ.PUB;
            case "SUB": return ZMQ.SUB;
            case "REQ": return ZMQ.REQ;
            case "REP": return ZMQ.REP;
            case "DEALER": return ZMQ.DEALER;
            case "ROUTER": return ZMQ.ROUTER;
            case "PULL": return ZMQ.PULL;
            case "PUSH": return ZMQ.PUSH;
            default: throw new IllegalArgumentException("unknown socket type " + name);
        }
    }

    /** One whole message, or null if its first frame did not come within the timeout. */
    static List<byte[]> receive(ZMQ.Socket socket, int timeoutMs) {
        socket.setReceiveTimeOut(timeoutMs);
        byte[] first = socket.recv(0);
        if (first == null) {
            return null;
        }
        List<byte[]> frames = new ArrayList<>();
        frames.add(first);
        socket.setReceiveTimeOut(IO_TIMEOUT_MS); // the rest of a message comes with it
        while (socket.hasReceiveMore()) {
            byte[] next = socket.recv(0);
            if (next == null) {
                throw new IllegalStateException("message cut short");
            }
            frames.add(next);
        }
        return frames;
    }

    static boolean sendAll(ZMQ.Socket socket, List<byte[]> frames) {
        for (int i = 0; i < frames.size(); i++) {
            int flags = i + 1 < frames.size() ? ZMQ.SNDMORE : 0;
            if (!socket.send(frames.get(i), flags)) {
                return false;
            }
        }
        return true;
    }

    static String run(ZMQ.Socket socket, String[] words) {
        switch (words[0]) {
            case "send": {
                List<byte[]> frames = new ArrayList<>();
                for (int i = 1; i < words.length; i++) {
                    frames.add(unhex(words[i]));
                }
                return sendAll(socket, frames) ? "ok" : "error send timed out";
            }
            case "recv": {
                List<byte[]> frames = receive(socket, Integer.parseInt(words[1]));
                if (frames == null) {
                    return "timeout";
                }
                StringBuilder out = new StringBuilder("msg");
                for (byte[] frame : frames) {
                    out.append(' ').append(hex(frame));
                }
                return out.toString();
            }
            case "echo": {
                int count = Integer.parseInt(words[1]);
                int timeoutMs = Integer.parseInt(words[2]);
                for (int i = 0; i < count; i++) {
                    List<byte[]> frames = receive(socket, timeoutMs);
                    if (frames == null) {
                        return "timeout " + i;
                    }
                    if (!sendAll(socket, frames)) {
                        return "error send timed out at " + i;
                    }
                }
                return "ok " + count;
            }
            case "sub":
                socket.subscribe(unhex(words[1]));
                return "ok";
            case "unsub":
                socket.unsubscribe(unhex(words[1]));
                return "ok";
            default:
                return "error unknown command " + words[0];
        }
    }

    public static void main(String[] args) {
        try {
            serve(args);
        } catch (Throwable e) {
            e.printStackTrace();
            Runtime.getRuntime().halt(2); // JeroMQ's threads must not keep the process alive
        }
        Runtime.getRuntime().halt(0);
    }

    static void serve(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: ZmtpPeer TYPE bind|connect ENDPOINT [identity=HEX] [life=MS]");
            Runtime.getRuntime().halt(2);
        }
        byte[] identity = null;
        long lifeMs = 30000;
        for (int i = 3; i < args.length; i++) {
            if (args[i].startsWith("identity=")) {
                identity = unhex(args[i].substring("identity=".length()));
            } else if (args[i].startsWith("life=")) {
                lifeMs = Long.parseLong(args[i].substring("life=".length()));
            } else {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }

        // Whatever happens below, the process ends on its own.
        final long life = lifeMs;
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(life);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("ZmtpPeer: life of " + life + " ms over, exiting");
            Runtime.getRuntime().halt(3);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        ZMQ.Context context = ZMQ.context(1);
        ZMQ.Socket socket = context.socket(socketType(args[0]));
        socket.setLinger(0);
        socket.setSendTimeOut(IO_TIMEOUT_MS);
        socket.setReceiveTimeOut(IO_TIMEOUT_MS);
        if (identity != null) {
            socket.setIdentity(identity);
        }
        String endpoint = args[2];
        if (args[1].equals("bind")) {
            if (endpoint.endsWith(":*")) {
                String host = endpoint.substring(0, endpoint.length() - 2);
                endpoint = host + ":" + socket.bindToRandomPort(host);
            } else {
                socket.bind(endpoint);
            }
        } else if (args[1].equals("connect")) {
            socket.connect(endpoint);
        } else {
            throw new IllegalArgumentException("bind or connect, not " + args[1]);
        }
        System.out.println("ready " + endpoint);
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("quit")) {
                break;
            }
            String reply;
            try {
                reply = run(socket, line.split(" +"));
            } catch (RuntimeException e) {
                reply = "error " + e;
            }
            System.out.println(reply);
            System.out.flush();
        }
        socket.close();
        context.term();
    }
}
