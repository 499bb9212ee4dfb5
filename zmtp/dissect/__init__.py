"""Packet dissection: ZMTP in pcap/pcapng captures and on live interfaces.

========================  ====================================================
module                    concern
========================  ====================================================
``pcap``                  capture files and link/IP/TCP headers, by hand
``reassembly``            one TCP direction: segments in order, holes as gaps
``stream``                one ZMTP direction: generation detection, decoding
``peers``                 what each side has shown; socket-type compatibility
``handshake``             NULL, PLAIN and CURVE handshakes, checked
``traffic``               commands and messages afterwards; CURVE MESSAGE boxes
``connection``            glue: segments of both directions in, events out
``capture``               flows, recognition, the driver for files
``live``                  the driver for an interface (``zmtp sniff``)
``keylog``                the CURVE key log (``--keylog``)
``events``                the vocabulary: :class:`Event`, :class:`Violation`
``render``                events as text lines and JSON objects
``layers``                scapy layers for interactive use (greetings, frames)
``layers_commands``       scapy layers of command bodies (NULL, PLAIN, CURVE)
``cli``                   ``zmtp dissect`` and ``zmtp sniff``
========================  ====================================================

Nothing here imports scapy at import time except the ``layers`` modules; the readers import it
when a capture is opened, so that ``zmtp`` works without the ``dissect`` extra.
"""

from __future__ import annotations

from zmtp.dissect.capture import Dissector, Summary, dissect_file
from zmtp.dissect.events import Event, Kind, Violation
from zmtp.dissect.keylog import KeyLog

__all__ = ["Dissector", "Event", "KeyLog", "Kind", "Summary", "Violation", "dissect_file"]
