package taskqueue

// ValidateQueueName reports whether name is a valid queue name ("" is "default").
func ValidateQueueName(name string) error {
	_, err := queueName(name)
	return err
}

// ValidateTaskName reports whether name is a valid task name.
func ValidateTaskName(name string) error { return checkTaskName(name) }
