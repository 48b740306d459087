/** The web app's UI primitives: every page builds from these. */
export { Alert, type AlertTone } from './Alert';
export { Button, type ButtonProps, type ButtonVariant } from './Button';
export { Badge, Card, EmptyState } from './Card';
export { Form, useForm, type FieldState, type FormAction, type FormController, type FormValues } from './Form';
export { LoadingState, Spinner } from './Spinner';
export { RadioGroup, type RadioOption } from './RadioGroup';
export { Checkbox, SelectField, TextAreaField, TextField, type SelectFieldProps, type TextAreaFieldProps, type TextFieldProps } from './TextField';
export { Dialog, type DialogProps } from './Dialog';
export { Notice } from './Notice';
export { TableScroller } from './Table';
export { CircleThumb, CommunityAvatar } from './Avatar';
