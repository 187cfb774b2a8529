-- A turn's end (EndSessionTurn) finds its messages by turn: without this index it
-- read every message of the session, so a turn's cost grew with the session.
CREATE INDEX session_messages_turn ON session_messages (session_id, turn);
