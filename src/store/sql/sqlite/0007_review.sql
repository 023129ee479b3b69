-- 0007: time moves colours: the people whose colour is due to be looked at again, found by review time.
CREATE INDEX statuses_review ON statuses (review_at) WHERE review_at > 0;
